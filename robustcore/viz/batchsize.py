"""Plotly figures for the batch-size page (pure functions: arrays/trajectories in, figure out).

Colours: tau = 1 grey, tau* green, tau = n red, adaptive blue; the certified band light blue.
Every line, band and marker carries an explicit colour and width, so the print template of
``viz.style.apply_paper_style`` (whose shape defaults have zero line width) keeps them visible.
Method labels of ``robustcore.batchsize`` ("tau* = 37") are shown with Greek letters
(:func:`display_label`).
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import decade_ticks

__all__ = [
    "complexity_figure",
    "tau_trajectory_figure",
    "suboptimality_figure",
    "step_size_figure",
    "estimators_figure",
    "method_color",
    "display_label",
    "same_rule",
    "log_axis",
]

_COLORS = {"tau = 1": "#7f7f7f", "tau*": "#2ca02c", "tau = n": "#d62728",
           "adaptive: plug-in, as in the paper": "#ff7f0e", "adaptive: bound schedule, ours": "#1f77b4",
           "fixed tau*, bound schedule": "#17becf", "adaptive": "#1f77b4"}
_DASH = {"fixed tau*, bound schedule": "dash", "adaptive: plug-in, as in the paper": "dot"}
_EXTRA = ["#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf"]
_LEGEND = dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0.0)
_TAU_STAR = "#2ca02c"
_LINE_W = 2  # explicit: the paper template's shape defaults draw lines of width 0
_MAX_POINTS = 400  # per trace: a 700-pixel-wide plot cannot show more


def display_label(label: str) -> str:
    """A method label as figures and tables show it: ``"tau* = 37"`` -> ``"τ* = 37"``."""
    return label.replace("tau", "τ")


def method_color(label: str, i: int = 0) -> str:
    """Colour of a method by its label (``"tau* = 37"`` counts as tau*)."""
    for key, c in _COLORS.items():
        if label == key or (key == "tau*" and label.startswith("tau* =")):
            return c
    return _EXTRA[i % len(_EXTRA)]


def _tick_text(v: float) -> str:
    e = round(math.log10(v))
    return f"{v:g}" if -2 <= e <= 4 else f"1e{e}"


def log_axis(fig: go.Figure, which: str, lo: float, hi: float, row: int | None = None,
             col: int | None = None, **kw) -> None:
    """Make an axis logarithmic with ticks at powers of ten only (``viz.style.decade_ticks``),
    covering ``[lo, hi]``."""
    lo = max(float(lo), 1e-300)
    hi = max(float(hi), lo * 10)
    ticks = decade_ticks(lo, hi)
    # the range runs from decade to decade, so both ends carry a labelled tick
    upd = dict(type="log", tickvals=ticks, ticktext=[_tick_text(t) for t in ticks],
               range=[math.log10(ticks[0]) - 0.02, math.log10(ticks[-1]) + 0.02], **kw)
    if which == "x":
        fig.update_xaxes(row=row, col=col, **upd)
    else:
        fig.update_yaxes(row=row, col=col, **upd)


def _log_hline(fig: go.Figure, y: float, text: str, color: str, side: str = "right",
               dash: str = "dash", above: bool = True) -> None:
    """A horizontal line at ``y`` on a log y axis with its label just above (or below) it, at
    one end.

    plotly places annotations on log axes in log10 units (``add_hline``'s own label lands at
    10**y), so the label is placed by hand; labels of different lines go to different ends.
    """
    fig.add_hline(y=y, line=dict(color=color, dash=dash, width=_LINE_W))
    fig.add_annotation(x=1.0 if side == "right" else 0.0, xref="paper", y=math.log10(y), yref="y",
                       text=text, showarrow=False, yanchor="bottom" if above else "top",
                       xanchor="right" if side == "right" else "left", font=dict(color=color))


def _finite_range(*arrays) -> tuple[float, float]:
    v = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays if a is not None])
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return 1e-3, 1.0
    return float(v.min()), float(v.max())


def _thin(n_points: int, max_points: int = _MAX_POINTS) -> np.ndarray:
    """Indices to plot: all if few, else a log-and-linear spaced subset keeping both ends."""
    if n_points <= max_points:
        return np.arange(n_points)
    lin = np.linspace(0, n_points - 1, max_points // 2)
    log = np.geomspace(1, n_points, max_points // 2) - 1
    return np.unique(np.concatenate([lin, log]).astype(int))


def _thin_steps(y: np.ndarray, max_points: int = _MAX_POINTS) -> np.ndarray:
    """Indices to plot a piecewise-constant series: the ends of every run of equal values
    (exact for a constant step size), thinned only when the runs alone are too many."""
    y = np.asarray(y)
    if y.size <= 2:
        return np.arange(y.size)
    change = np.flatnonzero(y[1:] != y[:-1])
    keep = np.unique(np.concatenate([[0, y.size - 1], change, change + 1]))
    return keep if keep.size <= max_points else _thin(y.size, max_points)


def same_rule(a, b) -> bool:
    """Whether two runs use the same batch size and step size at every iteration: then they are
    the same method, their curves differ only by the random batches and lie on top of each
    other. (The fixed-tau* run with the bound schedule is such a twin of the fixed-tau* run
    whenever gamma(tau*) = 1/(2 L(tau*)) already: the schedule cannot enlarge that step.)"""
    if a is None or b is None or a.gamma.size == 0 or b.gamma.size == 0:
        return False
    ta, tb = np.unique(a.tau), np.unique(b.tau)
    return ta.size == 1 and tb.size == 1 and ta[0] == tb[0] \
        and bool(np.allclose(a.gamma, b.gamma[0], rtol=1e-9, atol=0.0)) \
        and bool(np.allclose(b.gamma, b.gamma[0], rtol=1e-9, atol=0.0))


def _fair_twin(trajs: Mapping):
    """``(fair label, tau* label)`` when both fixed-tau* runs are present. At tau* the bound
    schedule's step lies between gamma(tau*) and 1/(2 L(tau*)), which tau* (next to the
    crossing of the two branches) makes nearly equal: the two curves nearly coincide by
    construction (exactly when :func:`same_rule`)."""
    fair = next((k for k in trajs if k.startswith("fixed tau*")), None)
    star = next((k for k in trajs if k.startswith("tau* =")), None)
    return (fair, star) if fair is not None and star is not None else None


def _run_style(label: str, i: int, twin) -> dict:
    """Line (and marker) style of a run; the fair baseline is dashed with open markers over the
    tau* run's wider solid line, so both stay visible where they coincide."""
    color = method_color(label, i)
    if twin is not None and label == twin[0]:
        return dict(mode="lines+markers", line=dict(color=color, dash="dash", width=_LINE_W),
                    marker=dict(color=color, symbol="circle-open", size=9, line=dict(width=2),
                                maxdisplayed=25))
    width = _LINE_W + 2 if twin is not None and label == twin[1] else _LINE_W
    return dict(mode="lines", line=dict(color=color, dash=_DASH.get(label), width=width))


def _run_name(label: str, trajs: Mapping, twin) -> str:
    if twin is not None and label == twin[0] and same_rule(trajs[twin[0]], trajs[twin[1]]):
        return display_label(label) + " (same τ and step as " + display_label(twin[1]).split(" =")[0] + ")"
    return display_label(label)


def _above(y: np.ndarray, floor: float) -> np.ndarray:
    """``y`` with the points below ``floor`` (or not positive) cut out as gaps (NaN): a line on a
    log axis stops where it leaves the axis instead of diving off it."""
    y = np.asarray(y, dtype=float)
    return np.where(np.isfinite(y) & (y >= floor), y, np.nan)


def complexity_figure(curves: Mapping[str, np.ndarray], tau_star: int, n: int,
                      title: str = "", sweep=None, sweep_bound=None) -> go.Figure:
    """Total complexity T(tau)/n (data passes) and iterations K(tau) against tau, log-log.

    ``curves`` is the dict of ``complexity_curves``; both branches of the max are drawn dashed,
    down to the y axis' lowest decade (below it they stop: the noise branch falls to 0 at
    tau = n), and tau* is a vertical line on both panels. ``sweep`` / ``sweep_bound`` (optional)
    are ``sweep_summary`` tables of the *measured* passes to eps of fixed-tau SGD (constant step
    / bound step schedule): their medians over seeds are overlaid with the quartiles as error
    bars.
    """
    t = np.asarray(curves["tau"])
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14, subplot_titles=(
        "passes to reach ε: bound T(τ)/n and measured", "iterations K(τ) (bound)"))
    ys = [curves["T"] / n]
    meas = []
    for sw, name, color, sym in ((sweep, "measured, constant step γ(τ)", "#2ca02c", "circle"),
                                 (sweep_bound, "measured, bound step schedule", "#1f77b4",
                                  "diamond")):
        if sw is None or len(sw) == 0:
            continue
        med = np.asarray(sw["median"], dtype=float)
        ok = np.isfinite(med)
        meas.append(go.Scatter(
            x=np.asarray(sw["tau"])[ok], y=med[ok], mode="lines+markers", name=name + " (median)",
            marker=dict(color=color, symbol=sym, size=8), line=dict(color=color, width=1),
            error_y=dict(type="data", symmetric=False, color=color,
                         array=(np.asarray(sw["q75"], float) - med)[ok],
                         arrayminus=(med - np.asarray(sw["q25"], float))[ok], thickness=1)))
        ys.append(med[ok])
    lo, hi = _finite_range(*ys)
    floor = decade_ticks(lo, hi)[0]
    fig.add_trace(go.Scatter(x=t, y=curves["T"] / n, name="bound T(τ)/n (Theorem 3.1)",
                             line=dict(color="black", width=_LINE_W)), 1, 1)
    fig.add_trace(go.Scatter(x=t, y=_above(curves["T_smooth"] / n, floor),
                             name="smoothness branch τ·2𝓛(τ)/μ",
                             line=dict(color="#ff7f0e", dash="dash", width=1.5)), 1, 1)
    fig.add_trace(go.Scatter(x=t, y=_above(curves["T_noise"] / n, floor),
                             name="noise branch τ·4σ²(τ)/(εμ²)",
                             line=dict(color="#9467bd", dash="dash", width=1.5)), 1, 1)
    for tr in meas:
        fig.add_trace(tr, 1, 1)
    fig.add_trace(go.Scatter(x=t, y=curves["K"], name="K(τ)", line=dict(color="#1f77b4", width=_LINE_W),
                             showlegend=False), 1, 2)
    for col in (1, 2):
        fig.add_vline(x=tau_star, line=dict(color=_TAU_STAR, dash="dot", width=_LINE_W), row=1, col=col)
    # tau* is named in the legend (a line sample), not by a label that could sit on a curve or title
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=f"τ* = {tau_star}",
                             line=dict(color=_TAU_STAR, dash="dot", width=_LINE_W)), 1, 1)
    log_axis(fig, "x", t.min(), t.max(), 1, 1, title_text="batch size τ")
    log_axis(fig, "x", t.min(), t.max(), 1, 2, title_text="batch size τ")
    log_axis(fig, "y", lo, hi, 1, 1, title_text="data passes")
    klo, khi = _finite_range(curves["K"])
    log_axis(fig, "y", klo, khi, 1, 2, title_text="iterations")
    # right margin: room for the last decade's label of the right panel
    fig.update_layout(title=title or None, height=460, margin=dict(t=60, b=40, r=50), legend=_LEGEND)
    return fig


def _informative(lo: np.ndarray, hi: np.ndarray, floor: float, n: int,
                 share: float = 0.75) -> np.ndarray:
    """Where a bracket [lo, hi] on tau* says something: it spans at most ``share`` of the log
    axis [floor, n] (``floor``: the smallest batch the run takes, 1 or the number of nodes)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.log(np.maximum(hi, 1e-300) / np.maximum(lo, 1e-300))
    return np.isfinite(width) & (width <= share * math.log(max(n / floor, 1.0 + 1e-12)))


def tau_trajectory_figure(traj, tau_star: int, n: int, x_axis: str = "passes",
                          others: Mapping | None = None) -> go.Figure:
    """Batch size tau_k of adaptive runs against data passes (or iterations), tau* as a line,
    and the certified bracket [tau*(h_lo), tau*(h_hi)] of reference §2.3 as a band (from the
    snapshots of ``traj``). ``others`` maps labels to further runs drawn on the same axes (e.g.
    both adaptive rules at once).

    While the bracket spans most of [1, n] it says little and would cover the whole plot, so the
    band starts at the first snapshot where it spans at most 3/4 of the log axis (its legend
    entry says from where); its edges are thin lines and its fill is light, so no curve hides.
    """
    fig = go.Figure()
    xs = np.asarray(traj.passes[traj.snap_iter] if x_axis == "passes" else traj.snap_iter, float)
    lo_b, hi_b = np.asarray(traj.tau_lo, float), np.asarray(traj.tau_hi, float)
    floor = max(1.0, float(np.min(traj.tau))) if traj.tau.size else 1.0
    info = np.flatnonzero(_informative(lo_b, hi_b, floor, n))
    if info.size:
        i0 = int(info[0])
        since = f"from {xs[i0]:.3g} passes" if x_axis == "passes" else f"from iteration {int(xs[i0])}"
        band = dict(mode="lines", line_shape="hv", line=dict(width=0.8, color="rgba(31,119,180,0.5)"))
        fig.add_trace(go.Scatter(x=xs[i0:], y=hi_b[i0:], showlegend=False, hoverinfo="skip", **band))
        fig.add_trace(go.Scatter(x=xs[i0:], y=lo_b[i0:], fill="tonexty",
                                 fillcolor="rgba(31,119,180,0.12)",
                                 name=f"certified bracket on τ* (drawn {since}; wider before)",
                                 **band))
    runs = {traj.label: traj}
    runs.update(others or {})
    for i, (lab, tr) in enumerate(runs.items()):
        xk = tr.passes[:-1] if x_axis == "passes" else np.arange(tr.tau.size)
        idx = _thin(tr.tau.size)
        fig.add_trace(go.Scatter(x=xk[idx], y=tr.tau[idx], name=f"τₖ, {display_label(lab)}",
                                 mode="lines", line=dict(color=method_color(lab, i),
                                                         dash=_DASH.get(lab), width=_LINE_W)))
    # below the line: the plug-in rule's tau_k ends just above tau*, at the right
    _log_hline(fig, tau_star, f"τ* = {tau_star}", _TAU_STAR, "right", above=False)
    log_axis(fig, "y", 1, n, title_text="batch size τₖ")
    fig.update_xaxes(title_text="data passes" if x_axis == "passes" else "iteration k")
    fig.update_layout(height=400, margin=dict(t=30, b=40), legend=_LEGEND)
    return fig


def suboptimality_figure(trajs: Mapping, rel_eps: float) -> go.Figure:
    """Relative error ``||x^k - x*||^2/||x^0 - x*||^2`` against data passes for each run, with
    the target eps as a line (log y). The fixed-tau* bound-schedule run, which nearly coincides
    with the fixed-tau* run by construction (:func:`_fair_twin`), is drawn dashed with open
    markers over the tau* run's wider solid line; its legend entry says when the two follow the
    same rule (:func:`same_rule`)."""
    fig = go.Figure()
    twin = _fair_twin(trajs)
    for i, (label, tr) in enumerate(trajs.items()):
        idx = _thin(tr.dist2.size)
        fig.add_trace(go.Scatter(x=tr.passes[idx], y=np.maximum(tr.rel_error[idx], 1e-300),
                                 name=_run_name(label, trajs, twin), **_run_style(label, i, twin)))
    # the target is named in the legend: a label on the plot would sit on whichever run crosses
    # eps at that end
    fig.add_hline(y=rel_eps, line=dict(color="black", dash="dot", width=_LINE_W))
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=f"target ε = {rel_eps:g}",
                             line=dict(color="black", dash="dot", width=_LINE_W)))
    lo = min(rel_eps / 10, min((float(np.nanmin(np.maximum(t.rel_error, 1e-300)))
                                for t in trajs.values()), default=rel_eps))
    log_axis(fig, "y", max(lo, 1e-12), 1.0, title_text="‖x − x*‖² / ‖x⁰ − x*‖²")
    fig.update_xaxes(title_text="data passes (gradients / n)")
    fig.update_layout(height=420, margin=dict(t=30, b=40), legend=_LEGEND)
    return fig


def step_size_figure(trajs: Mapping) -> go.Figure:
    """Step size gamma_k against data passes for each run (log y); constant stretches are drawn
    by their end points only (exact), and twins as in :func:`suboptimality_figure`."""
    fig = go.Figure()
    twin = _fair_twin(trajs)
    for i, (label, tr) in enumerate(trajs.items()):
        idx = _thin_steps(tr.gamma)
        fig.add_trace(go.Scatter(x=tr.passes[:-1][idx], y=tr.gamma[idx], name=_run_name(label, trajs, twin),
                                 **_run_style(label, i, twin)))
    lo, hi = _finite_range(*[t.gamma for t in trajs.values()])
    log_axis(fig, "y", lo, hi, title_text="step size γₖ")
    fig.update_xaxes(title_text="data passes")
    fig.update_layout(height=380, margin=dict(t=30, b=40), legend=_LEGEND)
    return fig


def estimators_figure(traj, est: Mapping[str, np.ndarray], tau_star: int, n: int,
                      theta: float) -> go.Figure:
    """Comparison batch-size rules along the adaptive run's iterates (log y, capped at n).

    ``est`` is the dict of ``estimators_along`` evaluated at ``traj.snap_x``.
    """
    xs = traj.passes[traj.snap_iter]
    cap = lambda v: np.clip(np.where(np.isfinite(v), v, n), 1.0, n)  # noqa: E731
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs, y=cap(est["noise_scale"]),
                             name="McCandlish B<sub>simple</sub> = tr Σ/‖∇f‖²",
                             mode="lines+markers", line=dict(color="#9467bd", width=_LINE_W),
                             marker=dict(color="#9467bd", size=6)))
    fig.add_trace(go.Scatter(x=xs, y=cap(est["noise_scale_2batch"]),
                             name="B<sub>simple</sub>, two-batch estimate", mode="markers",
                             marker=dict(color="#9467bd", symbol="x", size=8)))
    fig.add_trace(go.Scatter(x=xs, y=cap(est["norm_test"]), name=f"Byrd norm test (θ = {theta:g})",
                             mode="lines+markers", line=dict(color="#ff7f0e", width=_LINE_W),
                             marker=dict(color="#ff7f0e", size=6)))
    idx = _thin(traj.tau.size)
    fig.add_trace(go.Scatter(x=traj.passes[:-1][idx], y=traj.tau[idx],
                             name=f"τₖ, {display_label(traj.label)}", mode="lines",
                             line=dict(color=method_color(traj.label), width=_LINE_W)))
    _log_hline(fig, tau_star, f"τ* = {tau_star}", _TAU_STAR, "left")
    log_axis(fig, "y", 1, n, title_text="batch size")
    fig.update_xaxes(title_text="data passes")
    fig.update_layout(height=400, margin=dict(t=30, b=40), legend=_LEGEND)
    return fig
