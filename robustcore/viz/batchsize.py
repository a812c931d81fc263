"""Plotly figures for the batch-size page (pure functions: arrays/trajectories in, figure out).

Colours: tau = 1 grey, tau* green, tau = n red, adaptive blue; the certified band light blue.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "complexity_figure",
    "tau_trajectory_figure",
    "suboptimality_figure",
    "step_size_figure",
    "estimators_figure",
    "method_color",
]

_COLORS = {"tau = 1": "#7f7f7f", "tau*": "#2ca02c", "tau = n": "#d62728", "adaptive": "#1f77b4"}
_EXTRA = ["#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def method_color(label: str, i: int = 0) -> str:
    """Colour of a method by its label (``"tau* = 37"`` counts as tau*)."""
    for key, c in _COLORS.items():
        if label == key or (key == "tau*" and label.startswith("tau*")):
            return c
    return _EXTRA[i % len(_EXTRA)]


def _thin(n_points: int, max_points: int = 1500) -> np.ndarray:
    """Indices to plot: all if few, else a log-and-linear spaced subset keeping both ends."""
    if n_points <= max_points:
        return np.arange(n_points)
    lin = np.linspace(0, n_points - 1, max_points // 2)
    log = np.geomspace(1, n_points, max_points // 2) - 1
    return np.unique(np.concatenate([lin, log]).astype(int))


def complexity_figure(curves: Mapping[str, np.ndarray], tau_star: int, n: int,
                      title: str = "") -> go.Figure:
    """Total complexity T(tau)/n (data passes) and iterations K(tau) against tau, log-log.

    ``curves`` is the dict of ``complexity_curves``; both branches of the max are drawn dashed
    and tau* is marked on both panels.
    """
    t = np.asarray(curves["tau"])
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        "total complexity T(τ)/n  (data passes)", "iterations K(τ)"))
    fig.add_trace(go.Scatter(x=t, y=curves["T"] / n, name="T(τ)/n", line=dict(color="black")), 1, 1)
    fig.add_trace(go.Scatter(x=t, y=curves["T_smooth"] / n, name="smoothness branch τ·2𝓛(τ)/μ",
                             line=dict(color="#ff7f0e", dash="dash")), 1, 1)
    fig.add_trace(go.Scatter(x=t, y=curves["T_noise"] / n, name="noise branch τ·4σ²(τ)/(εμ²)",
                             line=dict(color="#9467bd", dash="dash")), 1, 1)
    fig.add_trace(go.Scatter(x=t, y=curves["K"], name="K(τ)", line=dict(color="#1f77b4")), 1, 2)
    i = int(np.argmin(np.abs(t - tau_star)))
    for col, y in ((1, curves["T"][i] / n), (2, curves["K"][i])):
        fig.add_trace(go.Scatter(x=[t[i]], y=[y], mode="markers+text", text=[f"τ* = {tau_star}"],
                                 textposition="top right", marker=dict(size=12, color="#2ca02c"),
                                 name="τ*", showlegend=col == 1), 1, col)
    fig.update_xaxes(type="log", title_text="batch size τ")
    fig.update_yaxes(type="log")
    fig.update_layout(title=title, height=380, margin=dict(t=60, b=40),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def tau_trajectory_figure(traj, tau_star: int, n: int, x_axis: str = "passes",
                          others: Mapping | None = None) -> go.Figure:
    """Batch size tau_k of a run against data passes (or iterations), tau* as a line, and the
    certified bracket [tau*(h_lo), tau*(h_hi)] of reference §2.3 as a band (from snapshots)."""
    fig = go.Figure()
    xk = traj.passes[:-1] if x_axis == "passes" else np.arange(traj.tau.size)
    xs = traj.passes[traj.snap_iter] if x_axis == "passes" else traj.snap_iter
    fig.add_trace(go.Scatter(x=xs, y=traj.tau_hi, line=dict(width=0), showlegend=False,
                             hoverinfo="skip", mode="lines", line_shape="hv"))
    fig.add_trace(go.Scatter(x=xs, y=traj.tau_lo, fill="tonexty", mode="lines", line_shape="hv",
                             line=dict(width=0), fillcolor="rgba(31,119,180,0.15)",
                             name="certified bracket on τ* (from the iterate)"))
    idx = _thin(traj.tau.size)
    fig.add_trace(go.Scatter(x=xk[idx], y=traj.tau[idx], name="adaptive τ_k", mode="lines",
                             line=dict(color=method_color("adaptive"))))
    fig.add_hline(y=tau_star, line=dict(color="#2ca02c", dash="dash"),
                  annotation_text=f"τ* = {tau_star}", annotation_position="top left")
    fig.update_yaxes(type="log", range=[-0.1, np.log10(n) + 0.1], title_text="batch size τ_k")
    fig.update_xaxes(title_text="data passes" if x_axis == "passes" else "iteration k")
    fig.update_layout(height=360, margin=dict(t=30, b=40), legend=dict(orientation="h", y=-0.3))
    return fig


def suboptimality_figure(trajs: Mapping, rel_eps: float) -> go.Figure:
    """Relative error ``||x^k - x*||^2/||x^0 - x*||^2`` against data passes for each run, with
    the target eps as a line (log y)."""
    fig = go.Figure()
    for i, (label, tr) in enumerate(trajs.items()):
        idx = _thin(tr.dist2.size)
        fig.add_trace(go.Scatter(x=tr.passes[idx], y=np.maximum(tr.rel_error[idx], 1e-300),
                                 name=label, mode="lines",
                                 line=dict(color=method_color(label, i))))
    fig.add_hline(y=rel_eps, line=dict(color="black", dash="dot"),
                  annotation_text="target ε", annotation_position="bottom left")
    fig.update_yaxes(type="log", title_text="‖x − x*‖² / ‖x⁰ − x*‖²")
    fig.update_xaxes(title_text="data passes (gradients / n)")
    fig.update_layout(height=380, margin=dict(t=30, b=40), legend=dict(orientation="h", y=-0.25))
    return fig


def step_size_figure(trajs: Mapping) -> go.Figure:
    """Step size gamma_k against data passes for each run (log y)."""
    fig = go.Figure()
    for i, (label, tr) in enumerate(trajs.items()):
        idx = _thin(tr.gamma.size)
        fig.add_trace(go.Scatter(x=tr.passes[:-1][idx], y=tr.gamma[idx], name=label,
                                 mode="lines", line=dict(color=method_color(label, i))))
    fig.update_yaxes(type="log", title_text="step size γ_k")
    fig.update_xaxes(title_text="data passes")
    fig.update_layout(height=320, margin=dict(t=30, b=40), legend=dict(orientation="h", y=-0.3))
    return fig


def estimators_figure(traj, est: Mapping[str, np.ndarray], tau_star: int, n: int,
                      theta: float) -> go.Figure:
    """Comparison batch-size rules along the adaptive run's iterates (log y, capped at n).

    ``est`` is the dict of ``estimators_along`` evaluated at ``traj.snap_x``.
    """
    xs = traj.passes[traj.snap_iter]
    cap = lambda v: np.clip(np.where(np.isfinite(v), v, n), 1.0, n)  # noqa: E731
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs, y=cap(est["noise_scale"]), name="McCandlish B_simple = V/‖∇f‖²",
                             mode="lines+markers", line=dict(color="#9467bd")))
    fig.add_trace(go.Scatter(x=xs, y=cap(est["noise_scale_2batch"]),
                             name="B_simple, two-batch estimate", mode="markers",
                             marker=dict(color="#9467bd", symbol="x")))
    fig.add_trace(go.Scatter(x=xs, y=cap(est["norm_test"]), name=f"Byrd norm test (θ = {theta:g})",
                             mode="lines+markers", line=dict(color="#ff7f0e")))
    idx = _thin(traj.tau.size)
    fig.add_trace(go.Scatter(x=traj.passes[:-1][idx], y=traj.tau[idx], name="adaptive τ_k",
                             mode="lines", line=dict(color=method_color("adaptive"))))
    fig.add_hline(y=tau_star, line=dict(color="#2ca02c", dash="dash"),
                  annotation_text=f"τ* = {tau_star}", annotation_position="top left")
    fig.update_yaxes(type="log", range=[-0.1, np.log10(n) + 0.1], title_text="batch size")
    fig.update_xaxes(title_text="data passes")
    fig.update_layout(height=380, margin=dict(t=30, b=40), legend=dict(orientation="h", y=-0.3))
    return fig
