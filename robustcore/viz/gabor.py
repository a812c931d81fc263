"""Plotly figures of the Gabor page (pure functions: arrays in, figures out)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "frequency_response",
    "bank_gallery",
    "kernel_and_spectrum",
    "bound_vs_exact_bars",
    "bound_curve",
    "image_responses",
    "robustness_curves",
]

_KERNEL_SCALE = "RdBu_r"
_SPECTRUM_SCALE = "Viridis"
VARIANT_COLORS = {"standard": "#636EFA", "gabor": "#EF553B", "gabor-reg": "#00CC96"}


def frequency_response(kernel: np.ndarray, n_fft: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """|DFT| of a (k, k) kernel on an n_fft x n_fft grid, zero frequency centred.

    Returns (magnitude (n_fft, n_fft), frequencies (n_fft,) in cycles per pixel).
    """
    k = np.asarray(kernel, dtype=np.float64).squeeze()
    n = max(int(n_fft), *k.shape)
    mag = np.abs(np.fft.fftshift(np.fft.fft2(k, s=(n, n))))
    return mag, np.fft.fftshift(np.fft.fftfreq(n))


def _zsym(a: np.ndarray) -> float:
    m = float(np.abs(a).max())
    return m if m > 0 else 1.0


def bank_gallery(bank: np.ndarray, titles: Sequence[str] | None = None, n_fft: int = 32, cols: int = 8) -> go.Figure:
    """Gallery of a bank: each kernel (top) above its frequency response |K^| (bottom).

    bank: (F, 1, k, k) or (F, k, k). Kernels share one symmetric colour scale; spectra one scale.
    """
    b = np.asarray(bank, dtype=np.float64)
    b = b[:, 0] if b.ndim == 4 else b
    F_ = b.shape[0]
    cols = max(1, min(cols, F_))
    rows = int(np.ceil(F_ / cols))
    titles = list(titles) if titles is not None else [f"#{i}" for i in range(F_)]
    sub = []
    for r in range(rows):
        sub += [titles[r * cols + c] if r * cols + c < F_ else "" for c in range(cols)]
        sub += ["" for _ in range(cols)]
    fig = make_subplots(rows=2 * rows, cols=cols, subplot_titles=sub, horizontal_spacing=0.01, vertical_spacing=0.03)
    zk = _zsym(b)
    specs = [frequency_response(k, n_fft)[0] for k in b]
    zs = max(float(np.max(s)) for s in specs) or 1.0
    for i in range(F_):
        r, c = divmod(i, cols)
        fig.add_trace(go.Heatmap(z=b[i], zmin=-zk, zmax=zk, colorscale=_KERNEL_SCALE, showscale=i == 0,
                                 colorbar=dict(title="kernel", len=0.45, y=0.78), hovertemplate="g=%{z:.3f}<extra></extra>"),
                      row=2 * r + 1, col=c + 1)
        fig.add_trace(go.Heatmap(z=specs[i], zmin=0, zmax=zs, colorscale=_SPECTRUM_SCALE, showscale=i == 0,
                                 colorbar=dict(title="|K^|", len=0.45, y=0.22), hovertemplate="|K^|=%{z:.3f}<extra></extra>"),
                      row=2 * r + 2, col=c + 1)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, autorange="reversed", scaleanchor=None)
    fig.update_layout(height=230 * rows + 60, margin=dict(l=10, r=10, t=40, b=10),
                      title="Spatial kernels (rows 1, 3, ...) and their frequency responses |K^(omega)| (rows 2, 4, ...)")
    return fig


def kernel_and_spectrum(kernel: np.ndarray, n_fft: int = 32, title: str = "") -> go.Figure:
    """One kernel beside |K^(omega)| on an n_fft grid (axes in cycles per pixel); its max is the exact norm."""
    k = np.asarray(kernel, dtype=np.float64).squeeze()
    if k.ndim != 2:
        raise ValueError(f"expected one (k, k) kernel, got shape {np.shape(kernel)}.")
    mag, f = frequency_response(k, n_fft)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("kernel g[a, b]", f"|K^(u, v)| on {len(f)}x{len(f)} (max = exact norm)"))
    zk = _zsym(k)
    fig.add_trace(go.Heatmap(z=k, zmin=-zk, zmax=zk, colorscale=_KERNEL_SCALE, colorbar=dict(x=0.44, title="g")), 1, 1)
    fig.add_trace(go.Heatmap(z=mag, x=f, y=f, colorscale=_SPECTRUM_SCALE, colorbar=dict(title="|K^|")), 1, 2)
    i, j = np.unravel_index(np.argmax(mag), mag.shape)
    fig.add_trace(go.Scatter(x=[f[j]], y=[f[i]], mode="markers", marker=dict(symbol="x", size=12, color="red"),
                             name="max |K^|", showlegend=False), 1, 2)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_xaxes(title="u (cycles / pixel)", row=1, col=2)
    fig.update_yaxes(title="v (cycles / pixel)", row=1, col=2)
    fig.update_layout(height=360, title=title, margin=dict(l=10, r=10, t=60, b=10))
    return fig


def bound_vs_exact_bars(bound: np.ndarray, exact: np.ndarray, labels: Sequence[str] | None = None,
                        l1: np.ndarray | None = None) -> go.Figure:
    """Per-kernel closed-form bound beside the exact spectral norm (and the l1 norm), log scale."""
    x = list(labels) if labels is not None else [f"#{i}" for i in range(len(bound))]
    fig = go.Figure()
    fig.add_bar(x=x, y=exact, name="exact ||K||_2 (FFT)")
    if l1 is not None:
        fig.add_bar(x=x, y=l1, name="sum |g| (l1)")
    fig.add_bar(x=x, y=bound, name="closed-form bound")
    fig.update_layout(barmode="group", yaxis_type="log", yaxis_title="Lipschitz constant (l2)", height=330,
                      margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.12))
    return fig


def bound_curve(values: np.ndarray, bound: np.ndarray, exact: np.ndarray, xlabel: str,
                l1: np.ndarray | None = None, current: float | None = None) -> go.Figure:
    """Closed-form bound and exact constant (and l1) of one kernel against a parameter, log y."""
    fig = go.Figure()
    fig.add_scatter(x=values, y=bound, name="closed-form bound", mode="lines")
    if l1 is not None:
        fig.add_scatter(x=values, y=l1, name="sum |g| (l1)", mode="lines", line=dict(dash="dot"))
    fig.add_scatter(x=values, y=exact, name="exact (FFT)", mode="lines")
    if current is not None:
        fig.add_vline(x=current, line_dash="dash", line_color="gray")
    fig.update_layout(xaxis_title=xlabel, yaxis_title="Lipschitz constant", yaxis_type="log", height=330,
                      margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.15))
    return fig


def image_responses(image: np.ndarray, responses: np.ndarray, titles: Sequence[str] | None = None,
                    cols: int = 4) -> go.Figure:
    """The gray input image followed by the bank's responses (F, H, W), each on its own symmetric scale."""
    r = np.asarray(responses, dtype=np.float64)
    n = r.shape[0] + 1
    cols = min(cols, n)
    rows = int(np.ceil(n / cols))
    titles = ["input"] + (list(titles) if titles is not None else [f"#{i}" for i in range(r.shape[0])])
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.01, vertical_spacing=0.05)
    fig.add_trace(go.Heatmap(z=image, colorscale="gray", showscale=False), 1, 1)
    for i in range(r.shape[0]):
        rr, cc = divmod(i + 1, cols)
        z = _zsym(r[i])
        fig.add_trace(go.Heatmap(z=r[i], zmin=-z, zmax=z, colorscale=_KERNEL_SCALE, showscale=False), rr + 1, cc + 1)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, autorange="reversed")
    h, w = np.asarray(image).shape
    fig.update_layout(height=int(rows * (900 / cols) * h / w) + 60, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def robustness_curves(long: pd.DataFrame) -> go.Figure:
    """PGD accuracy against eps for each variant, l-inf and l2 side by side (eps = 0: clean accuracy)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("PGD l-inf", "PGD l2"))
    for variant, df in long.groupby("variant", sort=False):
        clean = float(df.loc[df["norm"] == "clean", "accuracy"].iloc[0])
        for c, norm in enumerate(("linf", "l2"), start=1):
            d = df[df["norm"] == norm].sort_values("eps")
            fig.add_scatter(x=[0.0] + list(d["eps"]), y=[clean] + list(d["accuracy"]), mode="lines+markers",
                            name=variant, legendgroup=variant, showlegend=c == 1,
                            line=dict(color=VARIANT_COLORS.get(variant)), row=1, col=c)
            fig.update_xaxes(title=f"eps ({'l-inf' if norm == 'linf' else 'l2'})", row=1, col=c)
    fig.update_yaxes(title="accuracy under PGD", range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10))
    return fig
